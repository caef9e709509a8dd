using ObjectRetrieval.Core.Evaluation;

namespace ObjectRetrieval.Core.Tests.Evaluation;

public sealed class CocoDatasetTests
{
    [Fact]
    public void Loads_images_categories_and_annotations()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, """
            {"images":[{"id":1,"file_name":"a.jpg","width":640,"height":480}],
             "categories":[{"id":3,"name":"car"}],
             "annotations":[{"id":9,"image_id":1,"category_id":3,"bbox":[1,2,10,20],"area":200,"iscrowd":0}],
             "info":{"ignored":true}}
            """);
        CocoDataset dataset = CocoDataset.Load(path);
        Assert.Equal("a.jpg", Assert.Single(dataset.Images).FileName);
        Assert.Equal("car", Assert.Single(dataset.Categories).Name);
        Assert.Equal(200, Assert.Single(dataset.Annotations).Area);
    }

    [Theory]
    [InlineData("""{"images":[],"categories":[],"annotations":[{"id":1,"image_id":5,"category_id":1,"bbox":[0,0,1,1],"area":1}]}""", "unknown image 5")]
    [InlineData("""{"images":[{"id":5,"file_name":"a","width":1,"height":1}],"categories":[],"annotations":[{"id":1,"image_id":5,"category_id":1,"bbox":[0,0,1,1],"area":1}]}""", "unknown category 1")]
    [InlineData("""{"images":[{"id":5,"file_name":"a","width":1,"height":1}],"categories":[{"id":1,"name":"x"}],"annotations":[{"id":1,"image_id":5,"category_id":1,"bbox":[0,0],"area":1}]}""", "bbox")]
    [InlineData("""{"categories":[],"annotations":[]}""", "missing 'images'")]
    [InlineData("""not json""", "not a valid COCO")]
    public void Invalid_files_are_explained(string json, string expected)
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, json);
        var e = Assert.Throws<InvalidDataException>(() => CocoDataset.Load(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }
}
